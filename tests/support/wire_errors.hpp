// Asserting on decode failures: which WireError a decoder refused with.
#pragma once

#include "smbx/error.hpp"
#include "smbx/expected.hpp"

namespace smbx::test {

// True when `e` is a decoding error with code `why`.
inline bool failed_with(const Error& e, WireError why) { return e.kind == ErrorKind::wire && e.wire == why; }

template <typename T>
bool failed_with(const Expected<T>& r, WireError why) {
  return !r.has_value() && failed_with(r.error(), why);
}

}  // namespace smbx::test
