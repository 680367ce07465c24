# e2e tests of vkgrm-inspect over the safetensors corpus (tests/data/malformed/),
# directories with --files-only.
#
# This file has two roles. Included by tests/CMakeLists.txt, it registers one
# test per corpus item. Run with `cmake -P` (by those tests), it runs the tool
# once and checks its exit status and output:
#   -DBIN=vkgrm-inspect -DITEM=path -DWANT=0|1|2 [-DJSON_TENSORS=n -DJSON_ARCH=name]
if(CMAKE_SCRIPT_MODE_FILE)
  set(args ${ITEM})
  if(NOT ITEM STREQUAL "" AND IS_DIRECTORY ${ITEM})
    # the corpus is about the files: a directory's whole-model check (config,
    # tokenizer, tensors vs architecture) is tests/e2e/test_broken_models.py's
    list(APPEND args --files-only)
  endif()
  if(DEFINED JSON_TENSORS)
    list(APPEND args --json)
  endif()
  execute_process(COMMAND ${BIN} ${args} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT rc STREQUAL WANT)
    message(FATAL_ERROR "exit status ${rc}, want ${WANT}\nstdout:\n${out}\nstderr:\n${err}")
  endif()
  if(WANT STREQUAL "1")
    # Exactly one line on stderr, naming the offending file.
    if(NOT err MATCHES "^vkgrm-inspect: error: [^\n]+\n$")
      message(FATAL_ERROR "want one 'vkgrm-inspect: error: ...' line on stderr, got:\n${err}")
    endif()
    get_filename_component(name ${ITEM} NAME)
    if(NOT IS_DIRECTORY ${ITEM} AND NOT err MATCHES "error: ${name}: ")
      message(FATAL_ERROR "the message does not name ${name}:\n${err}")
    endif()
  elseif(WANT STREQUAL "0")
    if(NOT err STREQUAL "")
      message(FATAL_ERROR "want nothing on stderr, got:\n${err}")
    endif()
    if(DEFINED JSON_TENSORS)
      string(JSON n GET "${out}" tensors)
      string(JSON arch GET "${out}" architecture)
      string(JSON ok GET "${out}" loadable)
      if(NOT n EQUAL JSON_TENSORS OR NOT arch STREQUAL JSON_ARCH OR NOT ok)
        message(FATAL_ERROR "JSON report: tensors ${n} (want ${JSON_TENSORS}), architecture "
                            "${arch} (want ${JSON_ARCH}), loadable ${ok}:\n${out}")
      endif()
    elseif(NOT out MATCHES "\nstatus: +would load\n")
      message(FATAL_ERROR "no 'status: would load' line:\n${out}")
    endif()
  endif()
  return()
endif()

set(VKG_ST_CORPUS ${CMAKE_SOURCE_DIR}/tests/data/malformed)
set(VKG_ST_CHECK ${CMAKE_COMMAND} -DBIN=$<TARGET_FILE:vkgrm-inspect>)
set(VKG_ST_SELF ${CMAKE_CURRENT_LIST_FILE})

function(vkg_inspect_test name item want)
  add_test(NAME e2e_inspect_${name}
           COMMAND ${VKG_ST_CHECK} -DITEM=${item} -DWANT=${want} ${ARGN} -P ${VKG_ST_SELF})
  set_tests_properties(e2e_inspect_${name} PROPERTIES LABELS e2e)
endfunction()

# Every malformed item: exit 1 and one line naming the problem.
file(GLOB VKG_ST_ITEMS LIST_DIRECTORIES true CONFIGURE_DEPENDS ${VKG_ST_CORPUS}/*)
foreach(item ${VKG_ST_ITEMS})
  get_filename_component(name ${item} NAME)
  if(name STREQUAL "valid" OR name STREQUAL "README.md")
    continue()
  endif()
  string(REGEX REPLACE "\\.safetensors$" "" short ${name})
  vkg_inspect_test(bad_${short} ${item} 1)
endforeach()

# Valid models written by python safetensors: exit 0.
foreach(name single.safetensors single_dir sharded leading_whitespace.safetensors)
  string(REGEX REPLACE "\\.safetensors$" "" short ${name})
  vkg_inspect_test(ok_${short} ${VKG_ST_CORPUS}/valid/${name} 0)
endforeach()
vkg_inspect_test(json_sharded ${VKG_ST_CORPUS}/valid/sharded 0
                 -DJSON_TENSORS=4 -DJSON_ARCH=LlamaForCausalLM)
# No argument is a usage error.
vkg_inspect_test(usage "" 2)
