conf:
  file.managed:
    - name: @ROOT@/work/a.conf
    - contents: no newline
    - contents_newline: False
