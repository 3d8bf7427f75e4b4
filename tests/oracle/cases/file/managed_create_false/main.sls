conf:
  file.managed:
    - name: @ROOT@/work/a.conf
    - contents: x
    - create: False
