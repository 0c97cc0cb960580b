/**
 * 2026 public holidays and make-up working days (放假调休), as published by the General Office of
 * the State Council: 国务院办公厅关于2026年部分节假日安排的通知（2025年11月4日）.
 * https://www.gov.cn/zhengce/zhengceku/202511/content_7047091.htm
 *
 * `holidays` lists every day of each holiday period, weekend days inside the period included;
 * `makeUpWorkdays` lists the weekend days that are working days (调休上班).
 */
import type { YearCalendar } from './index.ts';

export const calendar2026: YearCalendar = {
  year: 2026,
  source: '国务院办公厅关于2026年部分节假日安排的通知（2025年11月4日）',
  holidays: [
    // 元旦 New Year's Day: Jan 1 (Thu) – Jan 3 (Sat), 3 days
    '2026-01-01', '2026-01-02', '2026-01-03',
    // 春节 Spring Festival: Feb 15 (腊月二十八, Sun) – Feb 23 (正月初七, Mon), 9 days
    '2026-02-15', '2026-02-16', '2026-02-17', '2026-02-18', '2026-02-19',
    '2026-02-20', '2026-02-21', '2026-02-22', '2026-02-23',
    // 清明节 Qingming: Apr 4 (Sat) – Apr 6 (Mon), 3 days
    '2026-04-04', '2026-04-05', '2026-04-06',
    // 劳动节 Labour Day: May 1 (Fri) – May 5 (Tue), 5 days
    '2026-05-01', '2026-05-02', '2026-05-03', '2026-05-04', '2026-05-05',
    // 端午节 Dragon Boat: Jun 19 (Fri) – Jun 21 (Sun), 3 days
    '2026-06-19', '2026-06-20', '2026-06-21',
    // 中秋节 Mid-Autumn: Sep 25 (Fri) – Sep 27 (Sun), 3 days
    '2026-09-25', '2026-09-26', '2026-09-27',
    // 国庆节 National Day: Oct 1 (Thu) – Oct 7 (Wed), 7 days
    '2026-10-01', '2026-10-02', '2026-10-03', '2026-10-04',
    '2026-10-05', '2026-10-06', '2026-10-07',
  ],
  makeUpWorkdays: [
    // 元旦: Sun Jan 4 is a working day
    '2026-01-04',
    // 春节: Sat Feb 14 and Sat Feb 28 are working days
    '2026-02-14', '2026-02-28',
    // 劳动节: Sat May 9 is a working day
    '2026-05-09',
    // 国庆节: Sun Sep 20 and Sat Oct 10 are working days
    '2026-09-20', '2026-10-10',
  ],
};
