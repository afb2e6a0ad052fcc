#ifndef SWAPCHAOS_PROTO_JSON_H_
#define SWAPCHAOS_PROTO_JSON_H_

#include <google/protobuf/message.h>

#include <string>

namespace swapchaos {

// Appends `m` as one line of proto3 JSON, byte for byte as protobuf's printer
// writes it with proto field names and always_print_primitive_fields (zeros,
// empty strings and empty lists printed; unset messages and optionals left
// out; 64-bit integers as strings, enums by name, bytes in base64), except
// that map keys are sorted and a few rare Unicode format characters are
// not escaped.
// Protobuf's own printer goes through a binary round trip and a type
// resolver, 40-60 us for one telemetry sample; this walks the message once
// by reflection, which is what lets one controller follow hundreds of agents
// (bench/controller_scale_bench). Our protos use no well-known types, whose
// JSON forms differ; json_test.cc checks every message of ours round-trips.
void AppendJson(const google::protobuf::Message& m, std::string* out);

// The present as every record's time fields hold it (started_at, built_at,
// issued_at): RFC 3339 in UTC, to the second.
std::string JsonTimeNow();

}  // namespace swapchaos

#endif  // SWAPCHAOS_PROTO_JSON_H_
