{
  "targets": [
    {
      "target_name": "leakhound",
      "sources": [
        "native/addon.cc",
        "native/errors.cc",
        "native/bpf-session.cc",
        "native/load-options.cc",
        "native/user-loader.cc",
        "native/kernel-loader.cc",
        "native/tracer.cc",
        "native/uprobe-multi.cc",
        "native/process-control.cc",
        "native/thread-registers.cc",
        "native/elf-reader.cc",
        "native/elf-core.cc",
        "native/eh-frame-hdr.cc",
        "native/unwind-table.cc",
        "native/unwind-table-addon.cc",
        "native/demangle.cc",
        "native/module-symbolizer.cc",
        "native/debuginfod-bound.cc",
        "native/instruction-decoder.cc",
        "native/kernel-features.cc"
      ],
      "include_dirs": [
        "<!@(node -p \"require('node-addon-api').include\")",
        ".output"
      ],
      "defines": ["NAPI_VERSION=8", "NAPI_CPP_EXCEPTIONS"],
      "cflags_cc!": ["-fno-exceptions", "-fno-rtti"],
      "cflags_cc": ["-std=c++17", "-Wall", "-Wextra", "-Wno-unused-parameter", "-Wno-missing-field-initializers", "-fexceptions"],
      "libraries": ["-lbpf", "-lelf", "-ldw", "-ldebuginfod", "-lz", "-lcapstone"]
    }
  ]
}
