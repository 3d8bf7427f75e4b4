l:
  file.symlink:
    - name: @ROOT@/work/link
    - target: @ROOT@/work/target
    - force: True
ld:
  file.symlink:
    - name: @ROOT@/work/dlink
    - target: @ROOT@/work/target
    - force: True
