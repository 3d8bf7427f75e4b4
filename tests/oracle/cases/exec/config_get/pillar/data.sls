app:
  port: 8080
  hosts: [a, b]
  nested: {level: {deep: yes}}
ports:
  80: http
master:
  mastkey: from-master
role: from-pillar
shared: {frompillar: 1, both: pillar}
