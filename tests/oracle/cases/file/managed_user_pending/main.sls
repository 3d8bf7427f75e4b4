svcuser:
  user.present:
    - name: saline_oracle_zz
conf:
  file.managed:
    - name: @ROOT@/work/a.conf
    - contents: x
    - user: saline_oracle_zz
    - group: saline_oracle_zz
    - require:
      - user: svcuser
