d:
  file.directory:
    - name: @ROOT@/work/d
