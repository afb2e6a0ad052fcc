#include "controller/plan/prng.h"

namespace swapchaos::controller {
namespace {

uint64_t SplitMix64(uint64_t& x) {
  uint64_t z = (x += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

uint64_t Rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

// FNV-1a: the stream name into the seed.
uint64_t Fnv1a(std::string_view s) {
  uint64_t h = 0xcbf29ce484222325ULL;
  for (unsigned char c : s) h = (h ^ c) * 0x100000001b3ULL;
  return h;
}

}  // namespace

Prng::Prng(uint64_t seed, std::string_view stream) {
  uint64_t x = seed ^ Fnv1a(stream);
  for (uint64_t& word : s_) word = SplitMix64(x);
}

uint64_t Prng::Next() {
  const uint64_t result = Rotl(s_[1] * 5, 7) * 9;
  const uint64_t t = s_[1] << 17;
  s_[2] ^= s_[0];
  s_[3] ^= s_[1];
  s_[1] ^= s_[2];
  s_[0] ^= s_[3];
  s_[2] ^= t;
  s_[3] = Rotl(s_[3], 45);
  return result;
}

double Prng::Uniform() { return static_cast<double>(Next() >> 11) * 0x1.0p-53; }

double Prng::Uniform(double lo, double hi) { return lo + Uniform() * (hi - lo); }

size_t Prng::Weighted(const std::vector<double>& weights) {
  double total = 0;
  for (double w : weights) total += w;
  double x = Uniform() * total;
  for (size_t i = 0; i < weights.size(); ++i) {
    if (x < weights[i]) return i;
    x -= weights[i];
  }
  return weights.size() - 1;  // rounding at the very top
}

}  // namespace swapchaos::controller
