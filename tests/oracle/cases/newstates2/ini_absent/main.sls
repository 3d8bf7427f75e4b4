options:
  ini.options_absent:
    - name: '@ROOT@/work/a.ini'
    - sections:
        sec1: [k1, k2, nokey]
        nosec: [k1]
sections:
  ini.sections_absent:
    - name: '@ROOT@/work/a.ini'
    - sections: [sec2, sec3, nosuch]
