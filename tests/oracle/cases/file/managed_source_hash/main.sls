good:
  file.managed:
    - name: @ROOT@/work/good.conf
    - source: @ROOT@/work/src.txt
    - source_hash: sha256=201a65dd47442c93fe90be76802c7b5d17f2b3b4ad5161ac381efb02ac156530
bad:
  file.managed:
    - name: @ROOT@/work/bad.conf
    - source: @ROOT@/work/src.txt
    - source_hash: sha256=0000000000000000000000000000000000000000000000000000000000000000
skipped:
  file.managed:
    - name: @ROOT@/work/skip.conf
    - source: @ROOT@/work/src.txt
    - source_hash: sha256=0000000000000000000000000000000000000000000000000000000000000000
    - skip_verify: True
