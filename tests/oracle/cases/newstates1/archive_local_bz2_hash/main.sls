unpacked:
  archive.extracted:
    - name: @ROOT@/work/opt/
    - source: @ROOT@/srv/app.tar.bz2
    - source_hash: sha256=8c637eefbbfcb6d0bab40f1599f3195997c90cffb67bfa179baf19dac78034d6
    - trim_output: 2
wrong_hash:
  archive.extracted:
    - name: @ROOT@/work/other
    - source: @ROOT@/srv/app.tar.bz2
    - source_hash: sha256=0000000000000000000000000000000000000000000000000000000000000000
missing_source:
  archive.extracted:
    - name: @ROOT@/work/none
    - source: @ROOT@/srv/nothing.tar.gz
skip_when_present:
  archive.extracted:
    - name: @ROOT@/work/skip
    - source: @ROOT@/srv/app.tar.bz2
    - if_missing: @ROOT@/srv
