conf:
  file.managed:
    - name: @ROOT@/work/run.sh
    - source: salt://files/run.sh
    - mode: keep
