show:
  test.nop:
    - ctx: {{ pillar.ctx | json }}
    - merged: {{ pillar.merged | json }}
