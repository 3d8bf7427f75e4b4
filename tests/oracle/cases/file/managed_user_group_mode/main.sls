conf:
  file.managed:
    - name: @ROOT@/work/a.conf
    - contents: same
    - user: nobody
    - group: nogroup
    - mode: '0640'
