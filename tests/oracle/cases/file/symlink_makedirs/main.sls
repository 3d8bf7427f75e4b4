l:
  file.symlink:
    - name: @ROOT@/work/a/b/link
    - target: @ROOT@/work/target
    - makedirs: True
nodir:
  file.symlink:
    - name: @ROOT@/work/x/y/link
    - target: @ROOT@/work/target
