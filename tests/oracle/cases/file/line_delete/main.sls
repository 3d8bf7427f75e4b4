l:
  file.line:
    - name: @ROOT@/work/f.conf
    - content: remove me
    - mode: delete
