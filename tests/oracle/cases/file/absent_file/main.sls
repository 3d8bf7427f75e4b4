f:
  file.absent:
    - name: @ROOT@/work/f
d:
  file.absent:
    - name: @ROOT@/work/d
m:
  file.absent:
    - name: @ROOT@/work/missing
