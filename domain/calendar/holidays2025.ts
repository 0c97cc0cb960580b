/**
 * 2025 public holidays and make-up working days (放假调休), as published by the General Office of
 * the State Council: 国务院办公厅关于2025年部分节假日安排的通知（国办发明电〔2024〕12号，2024年11月12日）.
 * https://www.gov.cn/zhengce/zhengceku/202411/content_6986383.htm
 *
 * `holidays` lists every day of each holiday period, weekend days inside the period included;
 * `makeUpWorkdays` lists the weekend days that are working days (调休上班).
 */
import type { YearCalendar } from './index.ts';

export const calendar2025: YearCalendar = {
  year: 2025,
  source: '国办发明电〔2024〕12号 国务院办公厅关于2025年部分节假日安排的通知',
  holidays: [
    // 元旦 New Year's Day: Jan 1 (Wed), 1 day, no make-up day
    '2025-01-01',
    // 春节 Spring Festival: Jan 28 (除夕, Tue) – Feb 4 (初七, Tue), 8 days
    '2025-01-28', '2025-01-29', '2025-01-30', '2025-01-31',
    '2025-02-01', '2025-02-02', '2025-02-03', '2025-02-04',
    // 清明节 Qingming: Apr 4 (Fri) – Apr 6 (Sun), 3 days
    '2025-04-04', '2025-04-05', '2025-04-06',
    // 劳动节 Labour Day: May 1 (Thu) – May 5 (Mon), 5 days
    '2025-05-01', '2025-05-02', '2025-05-03', '2025-05-04', '2025-05-05',
    // 端午节 Dragon Boat: May 31 (Sat) – Jun 2 (Mon), 3 days
    '2025-05-31', '2025-06-01', '2025-06-02',
    // 国庆节、中秋节 National Day + Mid-Autumn (merged): Oct 1 (Wed) – Oct 8 (Wed), 8 days
    '2025-10-01', '2025-10-02', '2025-10-03', '2025-10-04',
    '2025-10-05', '2025-10-06', '2025-10-07', '2025-10-08',
  ],
  makeUpWorkdays: [
    // 春节: Sun Jan 26 and Sat Feb 8 are working days
    '2025-01-26', '2025-02-08',
    // 劳动节: Sun Apr 27 is a working day
    '2025-04-27',
    // 国庆节、中秋节: Sun Sep 28 and Sat Oct 11 are working days
    '2025-09-28', '2025-10-11',
  ],
};
