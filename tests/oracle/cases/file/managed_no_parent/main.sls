conf:
  file.managed:
    - name: @ROOT@/work/nodir/a.conf
    - contents: x
