new:
  file.touch:
    - name: @ROOT@/work/new
old:
  file.touch:
    - name: @ROOT@/work/old
nodir:
  file.touch:
    - name: @ROOT@/work/nodir/x
