conf:
  file.managed:
    - name: @ROOT@/work/d1/d2/a.conf
    - contents: x
    - makedirs: True
    - dir_mode: '0750'
