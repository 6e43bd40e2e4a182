// The precompiled header of every test executable (tests/CMakeLists.txt, rill_test()): Catch2,
// the standard headers most tests use, and FlatBuffers. Parsed once per build instead of in each
// of the ~80 test files, it saves about a minute of CI per preset on 2 cores. Only headers that
// never change with rill's own code belong here, so editing rill never rebuilds it.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <thread>
#include <tuple>
#include <unordered_map>
#include <variant>
#include <vector>

#include <flatbuffers/flatbuffers.h>
#include <catch2/catch.hpp>
