conf:
  file.managed:
    - name: @ROOT@/work/empty.conf
