// A small std::expected look-alike. Debian 12's g++ 12 ships <expected> without
// the monadic members and clang 14 cannot use it, so smbx keeps its own.
#pragma once

#include <cassert>
#include <type_traits>
#include <utility>
#include <variant>

#include "smbx/error.hpp"

namespace smbx {

struct Unexpected {
  Error error;
};

template <typename T>
class [[nodiscard]] Expected {
 public:
  using value_type = T;

  Expected(T value) : state_{std::in_place_index<0>, std::move(value)} {}  // NOLINT: implicit by design
  Expected(Unexpected u) : state_{std::in_place_index<1>, std::move(u.error)} {}  // NOLINT
  Expected(Error e) : state_{std::in_place_index<1>, std::move(e)} {}  // NOLINT

  bool has_value() const noexcept { return state_.index() == 0; }
  explicit operator bool() const noexcept { return has_value(); }

  T& value() & { assert(has_value()); return std::get<0>(state_); }
  const T& value() const& { assert(has_value()); return std::get<0>(state_); }
  T&& value() && { assert(has_value()); return std::get<0>(std::move(state_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T&& operator*() && { return std::move(*this).value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

  const Error& error() const& { assert(!has_value()); return std::get<1>(state_); }
  Error&& error() && { assert(!has_value()); return std::get<1>(std::move(state_)); }

  // Applies f to the value; an error passes through untouched.
  template <typename F>
  auto transform(F&& f) const& -> Expected<std::invoke_result_t<F, const T&>> {
    if (!has_value()) return Unexpected{error()};
    return std::forward<F>(f)(value());
  }

 private:
  std::variant<T, Error> state_;
};

template <>
class [[nodiscard]] Expected<void> {
 public:
  Expected() = default;
  Expected(Unexpected u) : error_{std::move(u.error)}, ok_{false} {}  // NOLINT
  Expected(Error e) : error_{std::move(e)}, ok_{false} {}             // NOLINT
  bool has_value() const noexcept { return ok_; }
  explicit operator bool() const noexcept { return ok_; }
  const Error& error() const& { assert(!ok_); return error_; }

 private:
  Error error_{};
  bool ok_ = true;
};

}  // namespace smbx

// Evaluates an Expected; on error returns it from the enclosing function,
// otherwise yields the value. (A GNU statement expression: g++ and clang both
// have it. Not usable inside coroutines, which must co_return.) Each use gets
// its own variable name so that uses can nest.
#define SMBX_TRY(expr) SMBX_TRY_IMPL_(expr, SMBX_CONCAT_(smbx_try_, __COUNTER__))
#define SMBX_TRY_IMPL_(expr, var)                                \
  ({                                                             \
    auto&& var = (expr);                                         \
    if (!var.has_value()) return ::smbx::Unexpected{std::move(var).error()}; \
    std::move(var).value();                                      \
  })

// Same, for Expected<void>.
#define SMBX_TRY_VOID(expr) SMBX_TRY_VOID_IMPL_(expr, SMBX_CONCAT_(smbx_try_, __COUNTER__))
#define SMBX_TRY_VOID_IMPL_(expr, var)                           \
  do {                                                           \
    auto&& var = (expr);                                         \
    if (!var.has_value()) return ::smbx::Unexpected{var.error()}; \
  } while (0)

#define SMBX_CONCAT_(a, b) SMBX_CONCAT2_(a, b)
#define SMBX_CONCAT2_(a, b) a##b
