c:
  file.comment:
    - name: @ROOT@/work/a.conf
    - regex: ^foo
u:
  file.uncomment:
    - name: @ROOT@/work/b.conf
    - regex: bar
