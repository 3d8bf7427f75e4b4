l:
  file.line:
    - name: @ROOT@/work/f.conf
    - content: middle
    - mode: ensure
    - before: '^last'
