l:
  file.line:
    - name: @ROOT@/work/f.conf
    - match: '^port'
    - content: port=9
    - mode: replace
