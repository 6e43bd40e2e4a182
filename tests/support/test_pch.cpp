// The object the precompiled test header is built for (tests/CMakeLists.txt); nothing else.
