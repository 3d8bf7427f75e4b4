conf:
  file.managed:
    - name: @ROOT@/work/a.conf
    - contents: same
    - mode: '0600'
