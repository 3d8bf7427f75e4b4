conf:
  file.managed:
    - name: @ROOT@/work/b.conf
    - source:
      - salt://files/missing.conf
      - salt://files/b.conf
