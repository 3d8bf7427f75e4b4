refused:
  archive.extracted:
    - name: @ROOT@/work/bomb
    - source: salt://bomb.tar.xz
allowed:
  archive.extracted:
    - name: @ROOT@/work/bomb2
    - source: salt://bomb.tar.xz
    - enforce_toplevel: False
