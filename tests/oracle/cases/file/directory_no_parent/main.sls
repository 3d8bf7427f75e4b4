d:
  file.directory:
    - name: @ROOT@/work/a/b/c
