l:
  file.line:
    - name: @ROOT@/work/f.conf
    - content: top line
    - mode: insert
    - location: start
