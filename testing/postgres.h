#ifndef SWAPCHAOS_TESTING_POSTGRES_H_
#define SWAPCHAOS_TESTING_POSTGRES_H_

#include <libpq-fe.h>
#include <unistd.h>

#include <atomic>
#include <string>

#include "gtest/gtest.h"

namespace swapchaos::test {

// The PostgreSQL server CTest's `postgres` fixture started for the tests
// (testing/postgres-server), in the directory the build names.
inline std::string PostgresDir() {
#ifdef SWAPCHAOS_TEST_POSTGRES
  return SWAPCHAOS_TEST_POSTGRES;
#else
  ADD_FAILURE() << "this test binary was not built with the POSTGRES option of swapchaos_test";
  return "";
#endif
}

// A new, empty database on the test server, as a store URL: each test case
// has its own, so cases run in parallel.
inline std::string NewPostgresStoreUrl() {
  static std::atomic<int> n{0};
  const std::string dir = PostgresDir();
  if (dir.empty()) return "";
  std::string db = "t" + std::to_string(getpid()) + "_" + std::to_string(n++);
  std::string admin = "postgresql:///postgres?host=" + dir + "&user=swapchaos";
  PGconn* c = PQconnectdb(admin.c_str());
  std::string error;
  if (PQstatus(c) != CONNECTION_OK) {
    error = std::string(PQerrorMessage(c)) +
            " (ctest starts this server; by hand: testing/postgres-server start " + dir + ")";
  } else {
    PGresult* r = PQexec(c, ("DROP DATABASE IF EXISTS " + db + "; ").c_str());
    PQclear(r);
    r = PQexec(c, ("CREATE DATABASE " + db).c_str());
    if (PQresultStatus(r) != PGRES_COMMAND_OK) error = PQresultErrorMessage(r);
    PQclear(r);
  }
  PQfinish(c);
  if (!error.empty()) {
    ADD_FAILURE() << "test PostgreSQL server at " << dir << ": " << error;
    return "";
  }
  return "postgresql:///" + db + "?host=" + dir + "&user=swapchaos";
}

}  // namespace swapchaos::test

#endif  // SWAPCHAOS_TESTING_POSTGRES_H_
