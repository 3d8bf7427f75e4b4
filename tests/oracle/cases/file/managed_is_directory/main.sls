conf:
  file.managed:
    - name: @ROOT@/work/adir
    - contents: x
