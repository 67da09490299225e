// BOOST_ASSERT in the fuzz build (BOOST_ENABLE_ASSERT_HANDLER, fuzz/CMakeLists.txt): a failed
// assertion aborts, as assert() does, so that the fuzzer reports it. One is let through: Beast 1.81
// asserts `n >= 5` in basic_parser::parse_chunk_header when a final chunk "0\r\n" and the blank
// line after it arrive in separate reads, though the code after it handles that (it looks for the
// end and asks for more); the assertion was corrected upstream (boostorg/beast#2861, Boost 1.86).
// Release builds (NDEBUG) have no assertions; Debug builds of the server would abort there.
#include <boost/assert.hpp>
#include <cstdio>
#include <cstdlib>
#include <string_view>

namespace boost {

void assertion_failed(char const* expr, char const* function, char const* file, long line) {
  if (std::string_view(expr) == "n >= 5" &&
      std::string_view(file).ends_with("beast/http/impl/basic_parser.ipp")) {
    return;
  }
  std::fprintf(stderr, "%s:%ld: %s: Assertion `%s' failed.\n", file, line, function, expr);
  std::abort();
}

void assertion_failed_msg(char const* expr, char const* msg, char const* function, char const* file,
                          long line) {
  std::fprintf(stderr, "%s:%ld: %s: Assertion `%s' failed: %s\n", file, line, function, expr, msg);
  std::abort();
}

}  // namespace boost
