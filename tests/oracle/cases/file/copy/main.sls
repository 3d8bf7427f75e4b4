c:
  file.copy:
    - name: @ROOT@/work/dst.conf
    - source: @ROOT@/work/src.conf
exists:
  file.copy:
    - name: @ROOT@/work/other.conf
    - source: @ROOT@/work/src.conf
forced:
  file.copy:
    - name: @ROOT@/work/forced.conf
    - source: @ROOT@/work/src.conf
    - force: True
missing:
  file.copy:
    - name: @ROOT@/work/x.conf
    - source: @ROOT@/work/nope.conf
