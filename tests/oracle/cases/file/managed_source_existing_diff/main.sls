conf:
  file.managed:
    - name: @ROOT@/work/b.conf
    - source: salt://files/b.conf
    - mode: '0600'
