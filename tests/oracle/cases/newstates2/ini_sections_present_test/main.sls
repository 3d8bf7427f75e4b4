sections:
  ini.sections_present:
    - name: '@ROOT@/work/a.ini'
    - sections: [have, want]
none:
  ini.sections_present:
    - name: '@ROOT@/work/a.ini'
