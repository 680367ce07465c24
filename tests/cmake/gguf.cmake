# GGUF models (issue 12 §1): tests/fixtures/make_gguf_models.py writes tiny models of
# every GGUF architecture vkgrm reads, each as an HF directory and as the GGUF that
# llama.cpp's converter would make of it (setup fixture `gguf_models`), and
# tests/e2e/test_gguf_models.py checks `vkgrm-generate -m FILE.gguf` against the HF
# directory (bitwise: F32, F16, BF16), the numpy reference (F32; Q8_0 on gguf-py's
# dequantized weights), a 3-part split file and DeepSeek-V2's k_b/v_b layout.
set(VKG_GGUF_MODELS ${CMAKE_BINARY_DIR}/gguf-models)
add_test(NAME make_gguf_models
         COMMAND ${VKG_PYTHON} ${CMAKE_SOURCE_DIR}/tests/fixtures/make_gguf_models.py ${VKG_GGUF_MODELS})
set_tests_properties(make_gguf_models PROPERTIES LABELS "unit;python" FIXTURES_SETUP gguf_models TIMEOUT 300)
foreach(name llama qwen2 qwen3 qwen3moe gemma2 deepseek2)
  add_test(NAME e2e_gguf_model_${name}
           COMMAND ${VKG_PYTHON} ${CMAKE_CURRENT_SOURCE_DIR}/e2e/test_gguf_models.py $<TARGET_FILE:vkgrm-generate>
                   ${VKG_GGUF_MODELS} ${name})
  set_tests_properties(e2e_gguf_model_${name} PROPERTIES LABELS "e2e;python" FIXTURES_REQUIRED gguf_models TIMEOUT 900
                       ENVIRONMENT "OPENBLAS_NUM_THREADS=1")
endforeach()

# The malformed GGUF corpus (tests/data/malformed_gguf/, make_malformed_gguf.py; each
# item's exact message is tests/unit/test_gguf.c's): vkgrm-inspect exits 1 with one
# line naming the file. Split items name the part at fault, so only single files here.
file(GLOB VKG_GGUF_ITEMS CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/tests/data/malformed_gguf/*.gguf)
foreach(item ${VKG_GGUF_ITEMS})
  get_filename_component(name ${item} NAME_WE)
  if(name MATCHES "-0000[0-9]-of-")
    continue()
  endif()
  add_test(NAME e2e_inspect_gguf_${name}
           COMMAND ${CMAKE_COMMAND} -DBIN=$<TARGET_FILE:vkgrm-inspect> -DITEM=${item} -DWANT=1
                   -P ${CMAKE_CURRENT_SOURCE_DIR}/cmake/safetensors.cmake)
  set_tests_properties(e2e_inspect_gguf_${name} PROPERTIES LABELS e2e)
endforeach()

# Tokenizers from GGUF metadata vs transformers on the same model's HF files, over the
# whole tokenizer corpus (tests/fixtures/make_gguf_tokenizers.py: Qwen3 and Llama-3
# tokenizers converted as llama.cpp's converter does, and the real SmolLM2 GGUF, which
# tests/fixtures/fetch_models.sh puts in the cache).
set(VKG_GGUF_TOKREF_DIR ${CMAKE_BINARY_DIR}/gguf-tokenizers)
add_test(NAME make_gguf_tokenizers
         COMMAND ${VKG_PYTHON} ${CMAKE_SOURCE_DIR}/tests/fixtures/make_gguf_tokenizers.py ${VKG_GGUF_TOKREF_DIR}
                 --cache ${VKG_TEST_CACHE} --corpus ${CMAKE_SOURCE_DIR}/tests/data/tokenizer_corpus.jsonl)
set_tests_properties(make_gguf_tokenizers PROPERTIES LABELS "unit;python" FIXTURES_SETUP gguf_tokref TIMEOUT 600)
if(TARGET test_gguf_tokenizer)
  target_compile_definitions(test_gguf_tokenizer PRIVATE VKG_GGUF_TOKREF="${VKG_GGUF_TOKREF_DIR}/reference.json")
  set_tests_properties(test_gguf_tokenizer PROPERTIES FIXTURES_REQUIRED gguf_tokref TIMEOUT 600)
endif()

# The real SmolLM2-135M-Instruct as a GGUF (F16, written from the cached HF directory as
# llama.cpp's converter would, tokenizer metadata from the original GGUF): vkgrm-generate
# --chat on the GGUF and on the directory, bitwise equal logits and the same answer.
add_test(NAME e2e_smollm2_gguf
         COMMAND ${VKG_PYTHON} ${CMAKE_CURRENT_SOURCE_DIR}/e2e/test_smollm2_gguf.py ${CMAKE_BINARY_DIR}/tools
                 ${VKG_TEST_CACHE}/models ${CMAKE_BINARY_DIR}/smollm2-gguf)
set_tests_properties(e2e_smollm2_gguf PROPERTIES LABELS "e2e;slow" TIMEOUT 1800
                     ENVIRONMENT "OPENBLAS_NUM_THREADS=1")
