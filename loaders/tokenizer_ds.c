/* tokenizer_ds.c — the one translation unit that compiles stb_ds.h's
 * implementation for the whole vkgrm_loaders library (hash maps, arrays). */
#define STB_DS_IMPLEMENTATION
#include <stb/stb_ds.h>
