l:
  file.line:
    - name: @ROOT@/work/nope.conf
    - content: x
    - mode: ensure
    - after: y
c:
  file.line:
    - name: @ROOT@/work/created.conf
    - content: first line
    - mode: insert
    - location: start
    - create: True
