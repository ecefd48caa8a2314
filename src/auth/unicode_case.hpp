// Unicode simple uppercase mapping, for NTOWFv2's Uppercase(User)
// (MS-NLMP 3.3.2). Covers every one-to-one uppercase mapping of the Basic
// Multilingual Plane in Unicode 14.0. Limits: characters outside the BMP and
// characters whose uppercase is several characters (U+00DF) are unchanged,
// and Windows' own upcase table may differ from Unicode for a few characters
// (for example U+0131 and U+017F).
#pragma once

#include <string>
#include <string_view>

namespace smbx::auth {

char16_t to_upper_simple(char16_t c) noexcept;
std::u16string to_upper_simple(std::u16string_view text);

}  // namespace smbx::auth
