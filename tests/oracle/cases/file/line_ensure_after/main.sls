l:
  file.line:
    - name: @ROOT@/work/f.conf
    - content: inserted
    - mode: ensure
    - after: '^first'
