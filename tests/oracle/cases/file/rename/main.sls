r:
  file.rename:
    - name: @ROOT@/work/new.conf
    - source: @ROOT@/work/old.conf
gone:
  file.rename:
    - name: @ROOT@/work/x.conf
    - source: @ROOT@/work/nope.conf
