c:
  file.comment:
    - name: @ROOT@/work/a.conf
    - regex: ^opt
    - char: ';'
m:
  file.uncomment:
    - name: @ROOT@/work/a.conf
    - regex: nothere
