{
  "targets": [
    {
      "target_name": "dendrite_native",
      "sources": [
        "src/addon.cc",
        "src/conv.cc",
        "src/conv_pool.cc",
        "src/elementwise.cc",
        "src/gemm.cc",
        "src/linear.cc",
        "src/norm.cc",
        "src/pool.cc",
        "src/threads.cc",
        "src/training.cc"
      ],
      "include_dirs": ["/usr/include"],
      "cflags!": ["-fno-exceptions", "-O2"],
      "cflags_cc!": ["-fno-exceptions", "-fno-rtti", "-std=gnu++17", "-std=gnu++1y", "-O2"],
      "cflags_cc": [
        "-std=c++17",
        "-O3",
        "-fexceptions",
        "-frtti",
        "-fopenmp",
        "-Wall",
        "-Wextra",
        "-Wno-unused-parameter",
        "<!@(node march.cjs)"
      ],
      "defines": ["DN_MARCH=\"<!(node march.cjs --name)\""],
      "ldflags": ["-fopenmp"],
      "libraries": ["-ldnnl"]
    }
  ]
}
