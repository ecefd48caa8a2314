// The usual helper for std::visit with several lambdas.
#pragma once

namespace smbx::wire {

template <typename... F>
struct Overloaded : F... {
  using F::operator()...;
};
template <typename... F>
Overloaded(F...) -> Overloaded<F...>;

}  // namespace smbx::wire
