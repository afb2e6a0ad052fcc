#ifndef SWAPCHAOS_CONTROLLER_CAMPAIGN_IMPORT_H_
#define SWAPCHAOS_CONTROLLER_CAMPAIGN_IMPORT_H_

#include <string>

#include "absl/status/statusor.h"
#include "controller/store/store.h"

namespace swapchaos::controller {

// Runs made outside any store (`swapchaos run --out DIR`, or a worker's
// directory of them, copied from another host) into `store` as one
// campaign named after `source`: a run directory (it holds meta.json,
// written when the run ends) or a directory of them. Each run comes in
// with its verdict and its travelling files, as a campaign's runs do; one
// without a verdict.json (it ended before it could be judged) as an error
// with the outcome its meta.json gives. Every run is read before anything
// is written: a damaged one is InvalidArgument naming its file, and
// nothing is imported. The same runs imported again are skipped.
absl::StatusOr<Store::Imported> ImportRunDirectories(Store& store, const std::string& source);

}  // namespace swapchaos::controller

#endif  // SWAPCHAOS_CONTROLLER_CAMPAIGN_IMPORT_H_
