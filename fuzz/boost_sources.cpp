// Boost.JSON and Boost.URL compiled into the fuzz targets (instead of linking the system
// libraries) so that they are instrumented like the code that uses them: coverage guides the
// fuzzer through JSON syntax, and ASan sees every container on both sides.
#include <boost/json/src.hpp>
#include <boost/url/src.hpp>
