e1:
  file.exists:
    - name: @ROOT@/work/here
e2:
  file.exists:
    - name: @ROOT@/work/gone
m1:
  file.missing:
    - name: @ROOT@/work/gone
m2:
  file.missing:
    - name: @ROOT@/work/here
