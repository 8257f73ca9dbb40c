# The zkcredit client on top of the prover: protocol helpers, local tree,
# state file and HTTP in the zkclient library; the zkcredit command; their
# tests. Included from client/CMakeLists.txt.

pkg_check_modules(CURL REQUIRED IMPORTED_TARGET libcurl)

target_sources(zkclient PRIVATE
  ${CMAKE_CURRENT_LIST_DIR}/src/credit.cpp
  ${CMAKE_CURRENT_LIST_DIR}/src/http.cpp
  ${CMAKE_CURRENT_LIST_DIR}/src/merkle.cpp
  ${CMAKE_CURRENT_LIST_DIR}/src/openai_stream.cpp
  ${CMAKE_CURRENT_LIST_DIR}/src/payment.cpp
  ${CMAKE_CURRENT_LIST_DIR}/src/sse.cpp
  ${CMAKE_CURRENT_LIST_DIR}/src/state.cpp)
target_link_libraries(zkclient PRIVATE PkgConfig::CURL PUBLIC nlohmann_json::nlohmann_json)

# The proxy's HTTP server: libevent's evhttp (with its pthreads locking,
# since the worker wakes the event loop from its own thread).
pkg_check_modules(LIBEVENT REQUIRED IMPORTED_TARGET libevent libevent_pthreads)

add_executable(zkcredit cli/main.cpp cli/commands.cpp cli/deposit.cpp cli/proxy.cpp
                        cli/withdraw.cpp)
target_compile_options(zkcredit PRIVATE ${ZKC_WARNINGS})
target_compile_definitions(zkcredit PRIVATE
  ZKC_DEFAULT_ZKEY="${ZKC_CIRCUIT_ZKEY}"
  ZKC_DEFAULT_WITNESS_DAT="${ZKC_WITNESS_DAT}"
  ZKC_DEFAULT_VK="${ZKC_CIRCUIT_VK}"
  ZKC_DEFAULT_WITHDRAW_WASM="${ZKC_WITHDRAW_WASM}"
  ZKC_DEFAULT_WITHDRAW_ZKEY="${ZKC_WITHDRAW_ZKEY}"
  ZKC_DEFAULT_WITHDRAW_VK="${ZKC_WITHDRAW_VK}"
  ZKC_DEFAULT_WITHDRAW_PROVER="${PROJECT_SOURCE_DIR}/client/tools/withdraw_prove.mjs")
target_link_libraries(zkcredit PRIVATE zkclient zkchain zkregistry nlohmann_json::nlohmann_json
                                       PkgConfig::LIBEVENT Threads::Threads)
set(ZKC_CLIENT_BIN $<TARGET_FILE:zkcredit> PARENT_SCOPE)

add_subdirectory(tests/wallet)
