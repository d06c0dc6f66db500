{
  "targets": [
    {
      # The N-API addon: the few syscalls TypeScript needs and Node lacks.
      "target_name": "hako_addon",
      "sources": ["<!@(ls -1 addon/binding/*.cc)"],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")", "addon/launcher"],
      "defines": ["NAPI_VERSION=8", "NAPI_DISABLE_CPP_EXCEPTIONS"],
      "cflags_cc": ["-std=c++17", "-Wall", "-Wextra", "-Wno-unused-parameter"],
      "libraries": ["-lseccomp"],
      # Without libstdc++.so to load and relocate, the addon opens in a
      # fraction of the time, and every command but a few loads it.
      "ldflags": ["-static-libstdc++", "-static-libgcc"]
    },
    {
      # The launcher: the single-threaded C program between clone and execve.
      # Static so that it needs nothing from the host once it runs from its
      # sealed memfd copy (and so that it starts fast).
      "target_name": "hako-launcher",
      "type": "executable",
      "sources": ["<!@(ls -1 addon/launcher/*.c)"],
      "cflags": ["-std=gnu11", "-O2", "-Wall", "-Wextra", "-Wno-unused-parameter", "-fno-strict-aliasing"],
      "ldflags": ["-static"]
    }
  ]
}
